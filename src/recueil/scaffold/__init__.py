"""Starting points for the user: a new source (`recueil new`), a new project (`recueil init`)."""

"""Project settings (``recueil.yaml``): typed, documented, and strict about unknown keys."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from recueil.core import limits as caps
from recueil.core import remote_images as remote
from recueil.core.diagnostics import Diagnostic, error
from recueil.core.limits import InputLimits
from recueil.core.remote_images import RemoteImages, parse_host_entry
from recueil.core.yamlsafe import YamlProblem, read_yaml
from recueil.sources.schema import FieldSpec, ValidationContext, validate_fields

SETTINGS_FILE = "recueil.yaml"


def _doc(
    text: str, type_: str = "string", minimum: int | None = None, shapes_output: bool = True
) -> Any:
    """A setting's documentation; ``shapes_output`` False for one that only says how long, how
    much memory or disk, or how many of something: no output depends on it (output_key)."""
    return {"doc": text, "type": type_, "min": minimum, "shapes_output": shapes_output}


def _limit(default: int, text: str, shapes_output: bool = True) -> Any:
    """A cap on untrusted input: a positive integer (see SECURITY.md)."""
    return field(default=default, metadata=_doc(text, "integer", 1, shapes_output))


@dataclass(frozen=True)
class Settings:
    """Every key of ``recueil.yaml``; the README's settings table is generated from these docs."""

    title: str = field(
        default="Fiches retour d'expérience",
        metadata=_doc("Title of the series, printed on collection covers."),
    )
    publisher: str = field(default="", metadata=_doc("Publisher (resource centre) name."))
    publisher_address: str = field(default="", metadata=_doc("Publisher's postal address."))
    language: str = field(
        default="fr",
        metadata=_doc("Document language (BCP 47). French typography applies only to 'fr'."),
    )
    narrow_nbsp_everywhere: bool = field(
        default=False,
        metadata=_doc(
            "Use the narrow no-break space (U+202F) before ':' too, instead of the "
            "no-break space (U+00A0); ; ! ? and the inside of « » always take U+202F.",
            "boolean",
        ),
    )
    hyphenate: bool = field(
        default=True, metadata=_doc("Hyphenate body text with the language's patterns.", "boolean")
    )
    show_contacts: bool = field(
        default=True,
        metadata=_doc(
            "Print contact names, e-mails and phones (personal data); a sheet can still hide its "
            "own contact with contact.hidden.",
            "boolean",
        ),
    )
    render_timeout: int = field(
        default=120,
        metadata=_doc(
            "Longest time one sheet may take to render, in seconds; past it the render is "
            "stopped and the sheet reported as an error.",
            "integer",
            shapes_output=False,
        ),
    )
    render_memory_mb: int = field(
        default=2048,
        metadata=_doc(
            "Memory a render worker may add to what it starts with, in MB (address space); "
            "a sheet that needs more is stopped and reported as an error.",
            "integer",
            shapes_output=False,
        ),
    )
    max_selection_sheets: int = _limit(
        60,
        "Most sheets a visitor's selection may hold in the web catalogue (recueil serve); a "
        "longer selection is refused.",
        shapes_output=False,
    )
    serve_cache_mb: int = _limit(
        500,
        "Most disk space, in MB, the web catalogue (recueil serve) keeps for what it makes on "
        "request (visitors' selection PDFs, first-page images, in build/.cache/serve); past "
        "it, those asked for least recently are deleted, and made again if asked for.",
        shapes_output=False,
    )
    cache_days: int = field(
        default=14,
        metadata=_doc(
            "Days the cache in build/.cache keeps a render (or a sheet's copied structure "
            "tree) that no build uses any more: at the end of `recueil build`, those last used "
            "longer ago are deleted; 0 deletes every one the build did not use.",
            "integer",
            0,
            shapes_output=False,
        ),
    )
    content_dir: str = field(default="content", metadata=_doc("Folder holding the sources."))
    site_root: str = field(
        default="",
        metadata=_doc(
            "Folder of the project that image paths starting with '/' (site-root paths of "
            "static-site generators, '/img/x.jpg') start from; empty: the content folder. An "
            "image never resolves outside the project."
        ),
    )
    build_dir: str = field(default="build", metadata=_doc("Folder receiving the outputs."))
    editions_dir: str = field(
        default="build/editions",
        metadata=_doc(
            "Archive folder of the editions (one sub-folder per version); `recueil clean` "
            "never deletes it."
        ),
    )
    pdf_base_url: str = field(
        default="",
        metadata=_doc(
            "Public address of the web catalogue that serves the PDFs (recueil serve), e.g. "
            "https://fiches.example.org/: library records link each sheet to "
            "fiches/SLUG.pdf under it, an edition's records to editions/VERSION/sheets/SLUG.pdf. "
            "Empty: exported records carry no PDF address, and the OAI-PMH server uses the "
            "address it is reached at.",
            "url",
        ),
    )
    oai_admin_email: str = field(
        default="",
        metadata=_doc(
            "E-mail address given to harvesters as the OAI-PMH repository's administrator "
            "(recueil serve, /oai). Empty: webmaster@ followed by the catalogue's host name.",
            "email",
        ),
    )
    max_file_bytes: int = field(
        default=2_000_000, metadata=_doc("Largest source file accepted, in bytes.", "integer", 1)
    )
    max_front_matter_bytes: int = _limit(
        caps.DEFAULT_MAX_FRONT_MATTER_BYTES, "Largest front matter accepted, in bytes."
    )
    max_nesting_depth: int = _limit(
        caps.DEFAULT_MAX_NESTING_DEPTH,
        "Deepest nesting accepted in a body: blockquotes, lists and HTML elements, a list "
        "level counting once (WeasyPrint fails beyond about 130 nested boxes).",
    )
    max_table_rows: int = _limit(
        caps.DEFAULT_MAX_TABLE_ROWS, "Most rows accepted in one table of a body."
    )
    max_table_columns: int = _limit(
        caps.DEFAULT_MAX_TABLE_COLUMNS,
        "Most columns accepted in one table of a body (cells spanning several columns count "
        "each column).",
    )
    max_images: int = _limit(
        caps.DEFAULT_MAX_IMAGES,
        "Most images accepted in a sheet's body, and separately in its front matter.",
    )
    max_image_pixels: int = _limit(
        caps.DEFAULT_MAX_IMAGE_PIXELS,
        "Largest raster image accepted, in pixels (width × height, read from the file's "
        "header without decoding it).",
    )
    max_image_bytes: int = _limit(
        caps.DEFAULT_MAX_IMAGE_BYTES, "Largest image file accepted, in bytes."
    )
    max_svg_bytes: int = _limit(caps.DEFAULT_MAX_SVG_BYTES, "Largest SVG file accepted, in bytes.")
    max_markup_seconds: int = _limit(
        caps.DEFAULT_MAX_MARKUP_SECONDS,
        "Longest time converting one body to HTML may take, in seconds, before the sheet is "
        "refused.",
    )

    remote_image_hosts: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Hosts body images may be fetched from over the network: 'images.example.org' "
            "(https only), 'http://intranet.example' (plain http too), ':port' to allow one port "
            "only. Empty: the build never uses the network (see SECURITY.md).",
            "list",
        ),
    )
    remote_image_max_bytes: int = _limit(
        remote.DEFAULT_MAX_BYTES,
        "Largest remote image accepted, in bytes: its download stops past this size.",
    )
    remote_image_timeout: int = _limit(
        remote.DEFAULT_TIMEOUT,
        "Longest time fetching one remote image may take, in seconds, redirects included.",
    )

    def output_key(self) -> str:
        """The settings an output can depend on, as text for cache keys: every one but the
        time, memory and disk limits, the caches and the selection cap, so that changing those
        lays nothing out again (a template that printed them would not be updated)."""
        shaping = [f.name for f in fields(self) if f.metadata.get("shapes_output", True)]
        return repr([(name, getattr(self, name)) for name in shaping])

    def input_limits(self) -> InputLimits:
        """The caps the body and front-matter checks apply (see limits.py)."""
        return InputLimits(
            max_nesting_depth=self.max_nesting_depth,
            max_table_rows=self.max_table_rows,
            max_table_columns=self.max_table_columns,
            max_images=self.max_images,
            max_image_pixels=self.max_image_pixels,
            max_image_bytes=self.max_image_bytes,
            max_svg_bytes=self.max_svg_bytes,
            max_markup_seconds=self.max_markup_seconds,
        )

    def remote_images(self) -> RemoteImages:
        """The remote-image policy, with an empty memory of fetched images (one per build)."""
        return RemoteImages(
            self.remote_image_hosts,
            self.remote_image_max_bytes,
            self.remote_image_timeout,
            self.input_limits(),
        )


def settings_specs() -> tuple[FieldSpec, ...]:
    """The settings as schema fields, so they are validated like front matter."""
    return tuple(
        FieldSpec(
            f.name,
            f.metadata["type"],
            help=f.metadata["doc"],
            min=f.metadata.get("min"),
            items=FieldSpec("item", "string") if f.metadata["type"] == "list" else None,
        )
        for f in fields(Settings)
    )


def load_settings(root: Path) -> tuple[Settings, list[Diagnostic]]:
    """Read ``recueil.yaml`` if present; defaults otherwise. Unknown keys are errors."""
    path = root / SETTINGS_FILE
    if not path.is_file():
        return Settings(), []
    try:
        data, locations = read_yaml(path.read_text(encoding="utf-8"))
    except YamlProblem as exc:
        return Settings(), [error(SETTINGS_FILE, exc.line, exc.message, exc.column)]
    if data is None:
        return Settings(), []
    if not isinstance(data, dict):
        return Settings(), [error(SETTINGS_FILE, 1, "settings must be a mapping of keys")]
    ctx = ValidationContext(SETTINGS_FILE, root, root, (), locations)
    values = validate_fields(settings_specs(), data, "", ctx)
    hosts = []
    for index, entry in enumerate(values.get("remote_image_hosts", ())):
        try:
            parse_host_entry(entry)
        except ValueError as exc:
            ctx.report(f"remote_image_hosts[{index}]", f"field 'remote_image_hosts': {exc}")
            continue
        hosts.append(entry)
    if "remote_image_hosts" in values:
        values["remote_image_hosts"] = tuple(hosts)  # a tuple: settings are hashable
    site_root = Path(values.get("site_root", ""))
    if site_root.is_absolute() or ".." in site_root.parts:
        ctx.report("site_root", "field 'site_root': it must be a folder inside the project")
        values.pop("site_root")
    return Settings(**values), ctx.diagnostics

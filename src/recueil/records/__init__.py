"""Library records: sheets and collections as catalogue notices (UNIMARC, Dublin Core, CSV,
schema.org JSON-LD) and the OAI-PMH protocol that lets other catalogues harvest them."""

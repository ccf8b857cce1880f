"""Label Studio side of the toolkit: server, project, preloader, importers, baseline extractor, CLI."""

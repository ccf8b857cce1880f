"""Importers of annotations made elsewhere (BRAT standoff, Citron JSON) into ``AnnotatedDocument``s."""

from annotate.documents import write_documents

__all__ = ["write_documents"]

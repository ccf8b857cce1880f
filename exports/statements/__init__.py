"""The statement layer's exports: agreement on clusters, adjudication, evaluation of a linker, the fidelity view."""

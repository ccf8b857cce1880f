"""Everything that leaves Label Studio: comparison of annotations, agreement, and the published exports."""

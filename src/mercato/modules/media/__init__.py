"""Media: image uploads, renditions and storage (local filesystem or S3-compatible)."""

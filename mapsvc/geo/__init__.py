"""Pure geographic helpers shared by the API: coordinate reference systems and their URIs."""

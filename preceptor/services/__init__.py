"""Domain services: use-cases that touch several models. They never commit; views do."""

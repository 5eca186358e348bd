"""What users write, typed and located: names, YAML with locations, errors, the catalogue, model specs, templates."""

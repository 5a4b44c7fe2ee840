"""ascension."""

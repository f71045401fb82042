"""Parts of the deductive coder; :mod:`qualcx.code` puts them together."""

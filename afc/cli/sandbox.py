"""`afc sandbox`: serve the local API-Football simulator (filled in with afc.sandbox)."""

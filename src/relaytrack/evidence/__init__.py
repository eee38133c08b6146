"""Cases, roles, the audit chain, masked evidence exports and agency requests."""

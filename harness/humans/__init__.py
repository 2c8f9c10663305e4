"""Human ratings: blinded sheets, exported and read back."""

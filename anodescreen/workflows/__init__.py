"""jobflow Makers, campaign specs and plans, and the harvest of result rows."""

"""Pictures and pages for people: reward curves, galleries of reference vs rendered rollouts."""

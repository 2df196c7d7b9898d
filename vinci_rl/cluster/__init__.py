"""Running vinci-rl on a real Ray cluster: token authentication, placement rules for trainer and reward nodes,
the run folder every trainer node must see, resuming a killed job, and the cluster drill that checks all of it
on one machine (`vinci-rl drill cluster`)."""

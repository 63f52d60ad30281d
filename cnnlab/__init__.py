"""CNN Lab: a lab for convolutional networks."""

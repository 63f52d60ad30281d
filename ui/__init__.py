"""Qt front end of CNN Lab: widgets only; what needs no Qt lives in the core (``cnnlab``)."""

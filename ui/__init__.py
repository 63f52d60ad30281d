"""Qt front end of CNN Lab."""

"""Qt front end of CNN Lab."""

from cnnlab.ui.qt_compat import protect_singletons

protect_singletons()

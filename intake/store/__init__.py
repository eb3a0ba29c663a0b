"""Where things are kept: settings, the database and its migrations, the encrypted blob store."""

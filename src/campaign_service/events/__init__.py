"""Campaign events (serverMessages): the outbox, its delivery records and their signatures."""

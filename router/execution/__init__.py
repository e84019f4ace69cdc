"""Running a plan against the subgraphs and shaping the client's answer."""

"""Recipe language: parser, validation, expressions, planner and the StreamInterpreter."""

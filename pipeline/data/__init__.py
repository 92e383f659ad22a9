"""Input data: the one reader of table files, coercion, the contract's row rules, quarantine."""

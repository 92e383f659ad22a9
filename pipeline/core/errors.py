"""Errors the pipeline raises for problems a user can fix."""


class ChurnError(Exception):
    """A problem with inputs or configuration that the user can fix; the CLI prints it."""


class ParamsError(ChurnError):
    """params.yaml or a --set override is invalid."""


class DataContractError(ChurnError):
    """An input table breaks the data contract in a way no row quarantine can fix.

    The message always names the table, the column and the rule.
    """

    def __init__(self, table: str, column: str | None, rule: str, detail: str = ""):
        self.table, self.column, self.rule = table, column, rule
        where = f"{table}.{column}" if column else table
        super().__init__(f"{where}: {rule}" + (f" ({detail})" if detail else ""))


class IncompleteLabelWindowError(ChurnError):
    """An as-of month's label window reaches past the end of the observed data."""


class TooFewMonthsError(ChurnError):
    """The data cover too few months for the configured snapshots and out-of-time split."""

"""Write the notebooks from their cells (run: python notebooks/build_notebooks.py).

Notebooks are thin drivers: every computation is a package function. Keeping
their source here keeps diffs readable; tests execute the .ipynb files.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

EXPLORE = [
    new_markdown_cell(
        "# Demo data and the guideline's indicators\n"
        "What the built-in brokerage simulator produces, and how often each warning "
        "indicator fires for churners of each cause and for customers who stayed "
        "(the rules' false alarms). Set `CHURN_DATA` to explore your own data folder."
    ),
    new_code_cell(
        "import os\n"
        "from pathlib import Path\n\n"
        "from features.builder.build import build_feature_matrix\n"
        "from pipeline.training.rule_insight import indicator_hit_rates\n"
        "from pipeline.cohorts.labels import make_labels\n"
        "from pipeline.data.loader import load_tables\n"
        "from pipeline.core.params import load_params\n"
        "from pipeline.cohorts.snapshots import snapshot_months\n"
        "from pipeline.stages.generate import generate_stage\n"
        "from pipeline.stages.run import has_required_tables\n"
        "from pipeline.cohorts.cohorts import labelled_matrix\n\n"
        "DATA = Path(os.environ.get('CHURN_DATA', '../data/demo'))\n"
        "params = load_params(os.environ.get('CHURN_PARAMS') or None)\n"
        "if not has_required_tables(DATA):\n"
        "    demo = params.data.demo\n"
        "    generate_stage(\n"
        "        DATA, customers=demo.customers, months=demo.months, seed=demo.seed, "
        "start=demo.start\n"
        "    )\n"
        "loaded = load_tables(DATA, params, rejected_dir=None)\n"
        "tables = loaded.tables\n"
        "print(loaded.report.render())"
    ),
    new_markdown_cell("## Accounts and why they left"),
    new_code_cell(
        "tables.customers['close_reason'].value_counts(dropna=False).to_frame('accounts')"
    ),
    new_markdown_cell("## The indicators by cause of churn (last six snapshot months)"),
    new_code_cell(
        "months = snapshot_months(tables, params.snapshots, params.label)[-6:]\n"
        "matrix = labelled_matrix(\n"
        "    build_feature_matrix(tables, months, params), "
        "make_labels(tables, months, params.label)\n"
        ")\n"
        "hit_rates = indicator_hit_rates(matrix, tables.customers)\n"
        "hit_rates.style.format('{:.1%}', subset=hit_rates.columns[1:])"
    ),
    new_markdown_cell(
        "Read across a row: which rules catch that kind of leaver. The `(stayed)` row "
        "is how often each rule fires on customers who did not leave."
    ),
]

COMPARE = [
    new_markdown_cell(
        "# Model against rules\n"
        "Reads a training run folder (`churn train --out RUN` or `churn run`) and shows "
        "the side-by-side evaluation on the same out-of-time customers. Set `CHURN_RUN`; "
        "by default it reads the latest run (`runs/LATEST`)."
    ),
    new_code_cell(
        "import json\n"
        "import os\n"
        "from pathlib import Path\n\n"
        "import pandas as pd\n"
        "from IPython.display import Image, display\n\n"
        "from pipeline.training.run_folders import latest_run_folder\n\n"
        "RUN = Path(os.environ.get('CHURN_RUN') or latest_run_folder(Path('../runs')))\n"
        "metrics = json.loads((RUN / 'metrics.json').read_text())\n"
        "metrics['cohort']"
    ),
    new_markdown_cell("## Overall metrics, one row per model"),
    new_code_cell("pd.DataFrame(metrics['models']).T"),
    new_markdown_cell("## Per test month"),
    new_code_cell(
        "pd.concat({name: pd.DataFrame(rows) for name, rows in metrics['per_month'].items()})"
    ),
    new_markdown_cell("## Rule alerts against the model's call list"),
    new_code_cell("pd.DataFrame(metrics['overlap']['lightgbm']).T"),
    new_markdown_cell("## Curves and importance"),
    new_code_cell(
        "for name in ['pr', 'gain', 'calibration', 'importance']:\n"
        "    display(Image(filename=str(RUN / 'plots' / f'{name}.png')))"
    ),
]


def write(cells, name: str) -> Path:
    """Write one notebook."""
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = HERE / name
    nbformat.write(notebook, path)
    return path


if __name__ == "__main__":
    write(EXPLORE, "01_demo_data_and_indicators.ipynb")
    write(COMPARE, "02_model_against_rules.ipynb")

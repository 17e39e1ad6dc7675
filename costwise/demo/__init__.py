"""Demo and synthetic data: the bundled demo history (history.csv), the generator that made it
(generate.py) and the minute-level workload simulator (synthetic.py) the backtest also uses."""

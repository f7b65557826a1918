"""Login monitoring: credential stuffing, brute force and password spraying over login logs.

The engine runs SQL rules in DuckDB over canonical login events (`ts,account,ip,result`);
adapters turn OpenSSH, Windows Security and JSON access logs into that form.
"""

from .rules import RuleSet, load_rules

__all__ = ["RuleSet", "load_rules"]

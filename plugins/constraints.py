"""Regex, JSON Schema and Lark grammar constraints."""

from __future__ import annotations

from guidegen.automata.constraint import RegexCompiler
from guidegen.grammar.json_schema import JSONSchemaCompiler
from guidegen.grammar.lark_constraint import LarkCompiler
from guidegen.hookspecs import hookimpl


@hookimpl
def guidegen_constraint_compilers():
    return [RegexCompiler(), JSONSchemaCompiler(), LarkCompiler()]

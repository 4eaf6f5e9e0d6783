"""The built-in rule catalogue: one YAML file per GuardDuty finding type or family.

A package only so that its YAML files ship with the wheel (package data).
"""

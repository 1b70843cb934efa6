"""Looks busy, changes nothing (the leave-one-out arm shows it carries no effect)."""
print('{"inspected": true}')

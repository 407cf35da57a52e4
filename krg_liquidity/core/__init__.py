"""Foundations every layer uses: errors, numbers as spreadsheets write them, cash targets, statuses and time budgets."""

// ReplenishSystemd: see DESIGN.md

// ReplenishStore: see DESIGN.md

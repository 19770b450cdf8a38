// ReplenishMQTT: see DESIGN.md

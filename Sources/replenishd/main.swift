print("replenishd")

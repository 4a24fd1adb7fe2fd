"""The G90 cloud protocol: no Home Assistant import anywhere below this package."""

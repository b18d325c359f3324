"""Rating, billing and reports (R11, R51, R52, R60-R62): tariffs as data, exact decimals."""

"""Statistics: intervals over inputs, agreement, paired comparisons, the gate and races."""

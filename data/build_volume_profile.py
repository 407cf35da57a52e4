"""Build ``us_volume_profile.csv``: a MODEL of the intraday volume profile of US equities.

One row per minute of the 09:30-16:00 session (390 minutes): ``minute`` (HH:MM start) and
``fraction`` of the day's volume, summing to 1. The shape is the familiar U: heavy after
the open, a midday trough, heavier into the close. It is a smooth model, not fitted to
data:  intensity(m) = 1 + 2.0 exp(-m / 20) + 1.5 exp(-(389 - m) / 15),  m = 0..389,
normalized to sum to 1 (the first minute about 3x the midday rate, the last about 2.5x). Replace it with your own measured profile for trading.

Usage: ``python data/build_volume_profile.py``.
"""

from pathlib import Path

import numpy as np
import pandas as pd

minutes = np.arange(390)
intensity = 1.0 + 2.0 * np.exp(-minutes / 20.0) + 1.5 * np.exp(-(389 - minutes) / 15.0)
start = 9 * 60 + 30
profile = pd.DataFrame({
    "minute": [f"{(start + m) // 60:02d}:{(start + m) % 60:02d}" for m in minutes],
    "fraction": intensity / intensity.sum(),
})
profile.to_csv(Path(__file__).resolve().parent / "us_volume_profile.csv", index=False, float_format="%.12g")
print(profile.iloc[[0, 1, 195, 388, 389]])

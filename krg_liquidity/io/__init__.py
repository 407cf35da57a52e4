"""Files in and out: tables (CSV, .xlsx, Parquet), matrices and factor models, results by extension."""

from .matrices import read_covariance, read_factor_parts, read_matrix
from .read import check_file, read_table

__all__ = ["check_file", "read_covariance", "read_factor_parts", "read_matrix", "read_table"]

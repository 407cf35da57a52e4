"""Writes the corpus of odd and bad books (run from anywhere: python tests/corpus/make_corpus.py).

Every book derives from ``reference.csv`` (five Dow names of the bundled example, trade time
one day); ``expected.json`` gives each file's exact expected outcome. The files are committed;
this script documents how each was made and rebuilds them.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity import load_example

HERE = Path(__file__).resolve().parent
NAMES = ["AAPL", "AXP", "BA", "CAT", "CSCO"]
ALL = list(NAMES)


def reference() -> tuple[pd.DataFrame, pd.DataFrame]:
    holdings, covariance = load_example()
    book = holdings.set_index("Symbol").loc[NAMES, ["Shares", "Price", "ADV", "Volatility"]].reset_index()
    book["TradeTime"] = 1.0
    return book, covariance.loc[NAMES, NAMES]


def main() -> None:
    book, cov = reference()
    expected: dict[str, dict] = {}

    def csv(name, frame, outcome, **kwargs):
        frame.to_csv(HERE / name, index=False, **kwargs)
        expected[name] = outcome

    def text(name, content, outcome, encoding="utf-8"):
        (HERE / name).write_bytes(content.encode(encoding) if isinstance(content, str) else content)
        expected[name] = outcome

    same = {"status": "ok", "same_as_reference": True}

    def bad(*problems):
        return {"status": "bad_input", "problems": [[c, s] for c, s in problems]}

    csv("reference.csv", book, same)
    cov.to_csv(HERE / "reference_cov.csv")
    aliases = book.rename(columns={"Symbol": "Ticker", "Shares": "Quantity", "Price": "Last Price",
                                   "ADV": "Avg Daily Volume", "Volatility": "Vol", "TradeTime": "Trade Time"})
    csv("ok_aliases.csv", aliases, same)
    csv("ok_more_aliases.csv", book.rename(columns={"Shares": "Position", "Price": "Px", "ADV": "average_daily_volume",
                                                    "Volatility": "Vol 30D", "TradeTime": "trade_time_days"}), same)
    csv("ok_semicolon.csv", book, same, sep=";")
    csv("ok_tab.tsv", book, same, sep="\t")
    csv("ok_tab_named_csv.csv", book, same, sep="\t")
    grouped = book.assign(Shares=book["Shares"].map(lambda v: f"{v:,.0f}"), ADV=book["ADV"].map(lambda v: f"{v:,.0f}"))
    csv("ok_thousands.csv", grouped, same)
    csv("ok_thousands_semicolon.csv", grouped, same, sep=";")
    csv("ok_percent_strings.csv", book.assign(Volatility=book["Volatility"].map(lambda v: f"{v * 100:.4f}%")), same)
    csv("ok_dollar_prices.csv", book.assign(Price=book["Price"].map(lambda v: f"${v:,.4f}")), same)
    book.to_excel(HERE / "ok_excel.xlsx", index=False)
    expected["ok_excel.xlsx"] = same
    with pd.ExcelWriter(HERE / "ok_excel_named_sheet.xlsx") as writer:
        pd.DataFrame({"note": ["positions are on the next sheet"]}).to_excel(writer, sheet_name="Notes", index=False)
        book.to_excel(writer, sheet_name="Holdings", index=False)
    expected["ok_excel_named_sheet.xlsx"] = dict(same, sheet="Holdings")
    book.to_parquet(HERE / "ok_parquet.parquet", index=False)
    expected["ok_parquet.parquet"] = same
    text("ok_bom_crlf.csv", "\ufeff" + book.to_csv(index=False).replace("\n", "\r\n"), same)
    csv("ok_shouty_headers.csv", book.rename(columns=lambda c: f" {c.upper()} "), same)
    text("ok_blank_rows.csv", book.to_csv(index=False) + ",,,,\n\n,,,,\n", same)
    text("ok_cp1252_notes.csv", book.assign(Note="caf\u00e9").to_csv(index=False), same, encoding="cp1252")
    csv("ok_shuffled.csv", book.iloc[[3, 0, 4, 2, 1]], same)
    csv("ok_default_trade_time.csv", book.drop(columns="TradeTime"), dict(same, trade_time=1.0))
    csv("ok_partial_trade_time.csv", book.assign(TradeTime=[1.0, np.nan, 1.0, np.nan, 1.0]), dict(same, trade_time=1.0))
    csv("ok_numeric_symbols.csv", book.assign(Symbol=["7203", "6758", "0001", "9984", "8306"]),
        {"status": "ok", "symbols": ["7203", "6758", "0001", "9984", "8306"]})
    csv("warn_adv_in_dollars.csv", book.assign(ADV=book["ADV"] * book["Price"]), {"status": "ok", "warnings": 1})

    csv("bad_no_symbol.csv", book.drop(columns="Symbol"), bad(("symbol", [])))
    csv("bad_blank_symbol.csv", book.assign(Symbol=["AAPL", "AXP", "", "CAT", "CSCO"]), bad(("symbol", ["row 4"])))
    csv("bad_duplicate_symbol.csv", book.assign(Symbol=["AAPL", "AXP", "AXP", "CAT", "CSCO"]), bad(("symbol", ["AXP"])))
    csv("bad_volatility_percent.csv", book.assign(Volatility=(book["Volatility"] * 100).round(1)),
        bad(("volatility", ALL)))
    pm = aliases.drop(columns=["Vol", "Trade Time"])
    csv("bad_pm_sheet_missing_columns.csv", pm, bad(("volatility", []), ("trade_time", [])))
    csv("bad_text_price.csv", book.assign(Price=book["Price"].astype(object).where(book.Symbol != "BA", "n/a")),
        bad(("price", ["BA"])))
    csv("bad_text_trade_time.csv", book.assign(TradeTime=["1", "1", "1", "1 day", "1"]), bad(("trade_time", ["CAT"])))
    csv("bad_pov_percent.csv", book.drop(columns="TradeTime").assign(POV=20), bad(("pov", ALL)))
    csv("bad_pov_text.csv", book.drop(columns="TradeTime").assign(POV=["10%", "fast", "10%", "10%", "10%"]),
        bad(("pov", ["AXP"])))
    csv("bad_pct_adv_percent.csv", book.assign(UB_MaxPctADV=[5, 0.1, np.nan, 10, 0.05]),
        bad(("ub_max_pct_adv", ["AAPL", "CAT"])))
    csv("bad_weight_percent.csv", book.assign(UB_Wt=[5, 0.5, 0.5, 0.5, 0.5]), bad(("ub_wt", ["AAPL"])))
    csv("bad_max_mi_bps_in_decimal_column.csv", book.assign(UB_MaxMI=[25, 0.0025, np.nan, np.nan, np.nan]),
        bad(("ub_max_mi", ["AAPL"])))
    csv("bad_size_mismatch.csv", book.assign(Size=book["Shares"] / book["ADV"] * [1, 1, 1, 1, 2]),
        bad(("size", ["CSCO"])))
    csv("bad_negative_price.csv", book.assign(Price=book["Price"] * [1, -1, 1, 1, 1]), bad(("price", ["AXP"])))
    csv("bad_zero_adv.csv", book.assign(ADV=book["ADV"] * [1, 1, 0, 1, 1]), bad(("adv", ["BA"])))
    csv("bad_decimal_comma.csv", book.assign(Volatility=book["Volatility"].map(lambda v: f"{v:.4f}".replace(".", ","))),
        {"status": "bad_input", "message": "mixes decimal commas ('0,2157' in column Volatility) and decimal points"},
        sep=";")
    csv("bad_value_mismatch.csv", book.assign(Value=book["Shares"] * book["Price"] * [1, 1, 1, 1, 1.5]),
        bad(("value", ["CSCO"])))
    csv("bad_crossed_weights.csv", book.assign(LB_Wt=[0.6, 0.1, 0.1, 0.1, 0.1], UB_Wt=[0.5, 0.5, 0.5, 0.5, 0.5]),
        bad(("lb_wt", ["AAPL"])))
    csv("bad_many_problems.csv", book.assign(Symbol=["AAPL", "", "BA", "CAT", "CSCO"],
                                             Volatility=[0.2, 0.3, 25.0, 0.2, 0.2], Price=[1, 2, 3, "x", 5]),
        bad(("symbol", ["row 3"]), ("price", ["CAT"]), ("volatility", ["BA"])))
    text("bad_empty.csv", "", {"status": "bad_input", "message": "is empty"})
    text("bad_header_only.csv", "Symbol,Shares,Price,ADV,Volatility,TradeTime\n",
         {"status": "bad_input", "message": "have no rows"})
    text("bad_binary.csv", bytes(range(256)) * 4, {"status": "bad_input", "message": "is binary"})
    text("bad_csv_named_xlsx.xlsx", book.to_csv(index=False),
         {"status": "bad_input", "message": "not a readable .xlsx"})
    text("bad_unknown_extension.dat", book.to_csv(index=False), {"status": "bad_input", "message": "unknown extension"})
    text("bad_ragged.csv", book.to_csv(index=False) + "IBM,1,2,3,4,5,6,7\n",
         {"status": "bad_input", "message": "not a well-formed CSV"})
    csv("bad_two_share_columns.csv", book.assign(Qty=book["Shares"]),
        {"status": "bad_input", "message": "both mean 'shares'"})

    def risk(name, frame, outcome, **kwargs):
        frame.to_csv(HERE / name, **kwargs)
        expected[name] = dict(outcome, holdings="reference.csv", covariance=name)

    vol = np.sqrt(np.diag(cov))
    risk("cov_correlation.csv", cov / np.outer(vol, vol), {"status": "bad_input", "message": "unit diagonal"})
    risk("cov_percent_squared.csv", cov * 1e4, {"status": "bad_input", "message": "percent squared"})
    risk("cov_text_cell.csv", cov.astype(object).where(~np.eye(5, dtype=bool) | (cov.index != "BA")[:, None], "high"),
         {"status": "bad_input", "message": "row 'BA', column 'BA' is not a number"})
    text("cov_empty.csv", "", {"status": "bad_input", "message": "is empty"})
    expected["cov_empty.csv"].update(holdings="reference.csv", covariance="cov_empty.csv")
    risk("cov_missing_name.csv", cov.drop(index="CSCO", columns="CSCO"),
         {"status": "bad_input", "message": "the risk model has no row for CSCO"})
    risk("cov_all_zero.csv", cov * 0, {"status": "bad_input", "message": "all zeros"})
    asym = cov.copy()
    asym.iloc[0, 1] *= 2
    risk("cov_asymmetric.csv", asym, {"status": "bad_input", "message": "not symmetric"})
    risk("cov_semicolon_percent.csv", cov.map(lambda v: f"{v * 100:.10f}%"),
         {"status": "ok", "same_as_reference": True}, sep=";")
    cov.to_parquet(HERE / "cov_parquet.parquet")
    expected["cov_parquet.parquet"] = {"status": "ok", "same_as_reference": True, "holdings": "reference.csv",
                                       "covariance": "cov_parquet.parquet"}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Request parsing with the contract's error messages (a bad value is a 400 naming the field)."""
from portal.rules.parse import (
    attempts_list, bool_value, date_value, datetime_value, int_value, items_list, mapping_value, now_jst, payment_value,
    positive_int, string_value,
)

__all__ = ["datetime_value", "date_value", "bool_value", "int_value", "positive_int", "string_value", "mapping_value",
           "items_list", "payment_value", "attempts_list", "now_jst"]

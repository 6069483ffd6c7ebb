"""Rules for the enterprise marts: enterprises, conflicts, invalid codes, hazmat waybills, safety hazards.

dbt already tests each key, the credit-code validity of ``enterprise_id``
(its own ``enterprise_valid_credit_code`` test), relationships to
``dim_enterprise`` and the seeds, and accepted values
(``marts/enterprise/_enterprise__models.yml``). GX adds ranges, coordinates,
consistency between columns, and traces back to raw: every current waybill
that was not withdrawn, and every safety hazard of the latest register.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.dimensions import Dimension
from expectations.marts import Contract, mart_suites
from expectations.rules import (
    BLOCKING,
    WARNING,
    between,
    located_in_haicheng,
    not_before,
    not_negative,
    traced,
    unexpected_rows,
)
from expectations.transport import MAX_LOAD_T

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation


def enterprise(contract: Contract) -> list[Expectation]:
    return [
        located_in_haicheng(contract.primary_key, lineage=False),
        *not_negative("waybill_count_as_carrier", "waybill_count_as_consignor", "mining_right_count", "conflict_count"),
        not_before(
            "mining_right_count",
            "valid_mining_right_count",
            "有效采矿权数不超过采矿权数",
            "valid_mining_right_count does not exceed mining_right_count",
        ),
        between("source_count", 1, None, "至少来自一个来源系统", "source_count is at least 1"),
    ]


def enterprise_conflict(contract: Contract) -> list[Expectation]:
    return [
        unexpected_rows(
            "values_differ",
            "select conflict_id, attribute, value_a, value_b from {batch} where value_a is not distinct from value_b",
            WARNING,
            Dimension.CONSISTENCY,
            "冲突记录的两个取值确实不同",
            "a conflict's two values really differ",
        ),
    ]


def enterprise_invalid_code(contract: Contract) -> list[Expectation]:
    return [
        unexpected_rows(
            "names_a_reason",
            "select invalid_code_id, reason from {batch} where reason is null or reason = ''",
            WARNING,
            Dimension.COMPLETENESS,
            "每条无效代码都说明原因",
            "every invalid code names its reason",
        ),
    ]


def hazmat_waybill(contract: Contract) -> list[Expectation]:
    return [
        between("weight_t", 0, MAX_LOAD_T, f"重量在 0～{MAX_LOAD_T} t 内", f"weight_t within 0..{MAX_LOAD_T} t"),
        not_before("arrived_at", "departed_at", "到达不早于起运", "arrived_at is not before departed_at"),
        between(
            "transit_minutes",
            0,
            None,
            "在途分钟数不为负",
            "transit_minutes is not negative",
            severity=WARNING,
            dimension=Dimension.CONSISTENCY,
        ),
        traced(
            "waybills_traced_to_raw",
            "with latest_versions as (select distinct on (waybill_no) waybill_no, deleted, _batch_id "
            "from raw.transport__hazmat_waybills order by waybill_no, _extracted_at desc, _batch_id desc), "
            "kept as (select * from latest_versions where not coalesce(deleted, false)) "
            "select coalesce(m.waybill_id, k.waybill_no) as waybill_id, k._batch_id, "
            "m.waybill_id is null as missing_from_mart from {batch} m full join kept k on k.waybill_no = m.waybill_id "
            "where m.waybill_id is null or k.waybill_no is null",
            "可追溯到原始层：运单与原始层当前未撤回的运单一一对应",
            "traced to raw: the waybills are exactly raw's current waybills that were not withdrawn",
        ),
    ]


def safety_hazard(contract: Contract) -> list[Expectation]:
    return [
        *not_negative("days_overdue", "days_to_rectify"),
        not_before("deadline_date", "found_date", "整改期限不早于发现日期", "deadline_date is not before found_date"),
        traced(
            "hazards_traced_to_raw",
            "with latest as (select * from raw.bureau__safety_hazards where _batch_id = (select _batch_id from "
            "raw.bureau__safety_hazards order by _extracted_at desc, _batch_id desc limit 1)) "
            "select coalesce(m.hazard_id, l.hazard_code) as hazard_id, l._batch_id, "
            "m.hazard_id is null as missing_from_mart from {batch} m full join latest l on l.hazard_code = m.hazard_id "
            "where m.hazard_id is null or l.hazard_code is null",
            "可追溯到原始层：隐患与最新一版隐患排查台账一一对应",
            "traced to raw: the hazards are exactly those of the latest register version",
        ),
    ]


def major_hazard_identification(contract: Contract) -> list[Expectation]:
    return [
        *not_negative(
            "s_value",
            "r_value",
            "alpha",
            "chemical_item_count",
            "identified_chemical_count",
            "unidentified_chemical_count",
        ),
        unexpected_rows(
            "major_hazard_when_s_reaches_1",
            "select enterprise_id, s_value, is_major_hazard from {batch} "
            "where s_value is not null and is_major_hazard <> (s_value >= 1)",
            BLOCKING,
            Dimension.CONSISTENCY,
            "S = Σq/Q ≥ 1 时才是重大危险源（GB 18218-2018 4.2）",
            "a major hazard exactly when S = Σq/Q reaches 1 (GB 18218-2018 4.2)",
        ),
        unexpected_rows(
            "declared_grade_follows_gb18218",
            "select enterprise_id, declared_level, computed_level, s_value, r_value from {batch} where grade_disagrees",
            WARNING,
            Dimension.ACCURACY,
            "台账申报的重大危险源等级与按 GB 18218-2018 计算的等级一致",
            "the declared major-hazard grade agrees with the grade computed by GB 18218-2018",
        ),
    ]


SUITES = mart_suites(
    {
        "fct_major_hazard_identification": (
            "重大危险源辨识 GB 18218 major-hazard identification",
            major_hazard_identification,
        ),
        "dim_enterprise": ("企业 enterprises", enterprise),
        "fct_enterprise_conflict": ("企业信息冲突 enterprise conflicts", enterprise_conflict),
        "fct_enterprise_invalid_code": ("无效信用代码 invalid credit codes", enterprise_invalid_code),
        "fct_hazmat_waybill": ("危险货物运单 hazmat waybills", hazmat_waybill),
        "fct_safety_hazard": ("安全生产隐患 safety hazards", safety_hazard),
    },
    # Conflicts and invalid codes are findings: none is the good case.
    may_be_empty=("fct_enterprise_conflict", "fct_enterprise_invalid_code"),
)

"""Rules for the resource marts: resource sites, material stock, division readiness.

dbt already tests each key, the relationships to ``dim_resource_site`` and
the seeds, and accepted values (``marts/resource/_resource__models.yml``).
GX adds ranges, coordinates, consistency between columns, one row per town,
and traces back to raw: the sites of each kind against the latest register or
layer, the stock lines against the latest stock register.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.dimensions import Dimension
from expectations.marts import Contract, mart_suites
from expectations.reference import COUNTY_CODE, division_codes
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

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation


def _latest(table: str) -> str:
    return (
        f'(select * from raw."{table}" where _batch_id = (select _batch_id from raw."{table}" '
        f"order by _extracted_at desc, _batch_id desc limit 1))"
    )


# Site kind -> the site's code in the latest raw snapshot that lists it.
SITE_SOURCES = {
    "reserve_depot": f"(select distinct depot_code as code, _batch_id from {_latest('bureau__material_stock')} s)",
    "shelter": f"(select bncsbh as code, _batch_id from {_latest('natural_resources__shelters')} s)",
    "rescue_team": f"(select team_code as code, _batch_id from {_latest('bureau__rescue_teams')} s)",
}


def _sites_traced() -> Expectation:
    expected = " union all ".join(
        f"select '{kind}' as site_type, code, _batch_id from {source} as {kind}"
        for kind, source in SITE_SOURCES.items()
    )
    return traced(
        "sites_traced_to_raw",
        f"with expected as ({expected}) "
        "select coalesce(m.site_type, e.site_type) as site_type, coalesce(m.source_code, e.code) as source_code, "
        "e._batch_id, m.resource_site_id is null as missing_from_mart from {batch} m "
        "full join expected e on e.site_type = m.site_type and e.code = m.source_code "
        "where m.resource_site_id is null or e.code is null",
        "可追溯到原始层：储备库、避难场所、救援队伍与各自最新一版台账或图层一一对应",
        "traced to raw: depots, shelters and teams are exactly those of the latest register or layer",
    )


def resource_site(contract: Contract) -> list[Expectation]:
    return [
        located_in_haicheng(contract.primary_key, lineage=False),
        *not_negative(
            "capacity_people",
            "effective_area_m2",
            "member_count",
            "item_count",
            "items_in_stock",
            "items_below_required",
        ),
        not_before(
            "item_count",
            "items_below_required",
            "不足储备标准的物资数不超过物资数",
            "items_below_required does not exceed item_count",
        ),
        _sites_traced(),
    ]


def material_stock(contract: Contract) -> list[Expectation]:
    return [
        *not_negative("stock_quantity", "required_quantity", "shortfall_quantity", "stock_ratio"),
        not_before(
            "expiry_date", "production_date", "有效期至不早于生产日期", "expiry_date is not before production_date"
        ),
        traced(
            "stock_traced_to_raw",
            f"with latest as (select count(*) as raw_lines, min(_batch_id) as _batch_id "
            f"from {_latest('bureau__material_stock')} s) "
            "select (select count(*) from {batch}) as mart_lines, raw_lines, _batch_id from latest "
            "where raw_lines <> (select count(*) from {batch})",
            "可追溯到原始层：物资明细行数等于最新一版物资储备台账的行数",
            "traced to raw: as many stock lines as the latest stock register has",
        ),
    ]


def division_readiness(contract: Contract) -> list[Expectation]:
    towns = len([c for c in division_codes() if c != COUNTY_CODE + "000000"])
    return [
        located_in_haicheng(contract.primary_key, "center_lon", "center_lat", lineage=False),
        *not_negative(
            "shelter_count",
            "shelter_capacity_people",
            "shelter_area_m2",
            "team_count",
            "team_member_count",
            "depot_count",
            "depots_with_stock_count",
        ),
        between("reserve_travel_hours", 0, None, "物资到位时间不为负", "reserve_travel_hours is not negative"),
        not_before(
            "depot_count",
            "depots_with_stock_count",
            "有库存的储备库数不超过储备库数",
            "depots_with_stock_count does not exceed depot_count",
        ),
        unexpected_rows(
            "every_town_assessed",
            f"select count(*) as divisions from {{batch}} having count(*) < {towns}",
            WARNING,
            Dimension.COMPLETENESS,
            f"全部 {towns} 个街道和镇均有评估",
            f"all {towns} sub-districts and towns are assessed",
        ),
    ]


def division_relief_reach(contract: Contract) -> list[Expectation]:
    return [
        *not_negative(
            "displaced_people",
            "need_quantity",
            "reachable_quantity",
            "shortfall_quantity",
            "depots_within_target_count",
        ),
        unexpected_rows(
            "shortfall_is_need_beyond_reach",
            "select division_relief_id, need_quantity, reachable_quantity, shortfall_quantity, "
            "is_quantity_reached_within_target from {batch} where need_quantity is not null and ("
            "abs(shortfall_quantity - greatest(need_quantity - reachable_quantity, 0)) > 1e-6 "
            "or is_quantity_reached_within_target <> (reachable_quantity >= need_quantity))",
            BLOCKING,
            Dimension.CONSISTENCY,
            "缺口 = max(需求量 − 10 小时内可达量, 0)；可达量不小于需求量时才算到位",
            "shortfall = max(need − quantity reachable in time, 0); reached only when reachable ≥ need",
        ),
    ]


def village_informant_coverage(contract: Contract) -> list[Expectation]:
    return [
        *not_negative("population", "untrained_post_count"),
        unexpected_rows(
            "covered_means_both_posts",
            "select village_code, has_a_post, has_b_post, is_ab_covered from {batch} "
            "where is_ab_covered <> (has_a_post and has_b_post)",
            BLOCKING,
            Dimension.CONSISTENCY,
            "AB 岗齐全当且仅当 A 岗、B 岗都有人",
            "a village is covered exactly when both its A and B posts are filled",
        ),
        unexpected_rows(
            "village_under_its_town",
            "select village_code, town_code from {batch} where left(village_code, 9) <> left(town_code, 9)",
            BLOCKING,
            Dimension.CONSISTENCY,
            "村居代码前 9 位与所属镇街一致",
            "the village code lies under its town (same first nine digits)",
        ),
    ]


SUITES = mart_suites(
    {
        "dim_resource_site": ("应急资源点位 resource sites", resource_site),
        "fct_material_stock": ("应急物资储备 material stock", material_stock),
        "fct_division_readiness": ("镇街应急准备 division readiness", division_readiness),
        "fct_division_relief_reach": ("镇街救灾物资10小时可达量 relief reach by quantity", division_relief_reach),
        "fct_village_informant_coverage": ("村居灾害信息员AB岗 village informant coverage", village_informant_coverage),
    }
)

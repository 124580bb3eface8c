-- materialized: history
-- The department scorecard of every window built, so dashboards can chart each
-- department's figures over the nightly snapshots.
with

build_window as (
    select * from config.build_window
),

scorecard as (
    select * from marts.department_scorecard
),

final as (
    select
        w.window_start,
        w.window_end,
        s.*
    from build_window as w
    cross join scorecard as s
)

select * from final

-- RFM per customer_key over purchases, as of the newest purchase in the table (so historical data scores sensibly).
-- frequency = completed orders − cancelled ones; monetary = net minor units over all currencies (not converted);
-- scores 1..5 by quintile (5 = most recent / most frequent / highest spend).
CREATE VIEW IF NOT EXISTS {{db}}.rfm AS
SELECT
    customer_key, last_order_at, recency_days, frequency, monetary_minor,
    ntile(5) OVER (ORDER BY recency_days DESC, customer_key) AS r_score,
    ntile(5) OVER (ORDER BY frequency, customer_key) AS f_score,
    ntile(5) OVER (ORDER BY monetary_minor, customer_key) AS m_score
FROM
(
    SELECT
        customer_key,
        maxIf(occurred_at, status = 'completed') AS last_order_at,
        dateDiff('day', last_order_at, (SELECT max(occurred_at) FROM {{db}}.purchases)) AS recency_days,
        toInt64(countIf(status = 'completed')) - toInt64(countIf(status = 'cancelled')) AS frequency,
        sum(signed_total_minor) AS monetary_minor
    FROM {{db}}.purchases
    GROUP BY customer_key
    HAVING countIf(status = 'completed') > 0
);

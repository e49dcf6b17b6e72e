"""The per-episode score summary the dashboard aggregates, filled from the scores already stored.

One INSERT ... SELECT over the score rows (a copy of `outcomes.summary.refresh_sql`, frozen
as a migration's SQL must be): a million stored responses take seconds, nothing reaches Python.
"""

import django.db.models.deletion
from django.db import migrations, models

FILL = """
INSERT INTO outcomes_scoresummary (episode_id, instrument, code, baseline, week_6, month_3, month_6, month_12, month_24)
SELECT episode_id, instrument, code,
       MAX(CASE WHEN timepoint = 'baseline' THEN value END),
       MAX(CASE WHEN timepoint = '6w' THEN value END),
       MAX(CASE WHEN timepoint = '3m' THEN value END),
       MAX(CASE WHEN timepoint = '6m' THEN value END),
       MAX(CASE WHEN timepoint = '12m' THEN value END),
       MAX(CASE WHEN timepoint = '24m' THEN value END)
FROM outcomes_score
GROUP BY episode_id, instrument, code
"""


class Migration(migrations.Migration):

    dependencies = [
        ('outcomes', '0003_default_instrument_sets'),
        ('patients', '0002_chart_intake_episodes_consent'),
    ]

    operations = [
        migrations.CreateModel(
            name='ScoreSummary',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('instrument', models.CharField(max_length=20)),
                ('code', models.CharField(max_length=30)),
                ('baseline', models.FloatField(blank=True, null=True)),
                ('week_6', models.FloatField(blank=True, null=True)),
                ('month_3', models.FloatField(blank=True, null=True)),
                ('month_6', models.FloatField(blank=True, null=True)),
                ('month_12', models.FloatField(blank=True, null=True)),
                ('month_24', models.FloatField(blank=True, null=True)),
                ('episode', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patients.episode')),
            ],
            options={
                'ordering': ['episode', 'instrument', 'code'],
                'indexes': [models.Index(fields=['instrument', 'code', 'episode', 'baseline', 'week_6', 'month_3', 'month_6', 'month_12', 'month_24'], name='score_summary_by_score')],
                'constraints': [models.UniqueConstraint(fields=('episode', 'instrument', 'code'), name='score_summary_once_per_score')],
            },
        ),
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop),
    ]

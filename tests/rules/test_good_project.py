def test_well_configured_project_has_no_findings(make_project, findings):
    assert [(f.rule_id, f.message) for f in findings(make_project())] == []

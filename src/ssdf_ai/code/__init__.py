"""Code and environment checks: AI-specific source rules, secrets, dependency advisories and
least privilege (PW.5.1, PW.7, PO.5, PS.1, PW.4, RV.1.1).
"""

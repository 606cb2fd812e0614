# ruff: noqa
# expect: none
import autogen

user_proxy = autogen.UserProxyAgent(
    name="user_proxy",
    code_execution_config={"work_dir": "coding", "use_docker": True},
)

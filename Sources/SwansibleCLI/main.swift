print("swansible")
